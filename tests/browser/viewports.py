"""The two widths every page is checked at: a phone's (390×844 CSS pixels) and a desktop's."""

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
