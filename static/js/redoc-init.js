/*
 * Starts ReDoc on /api/v1/redoc/ (indicators/templates/indicators/api/redoc.html).
 *
 * Kept out of the page so that the Content-Security-Policy needs no inline script.
 * ReDoc adds <style> elements as it loads and renders; style-src allows them by the
 * page's nonce, which this script element carries. ReDoc stamps the nonce it is given
 * on the styles of its components, but its bundle also adds one stylesheet (its
 * scrollbars') before it knows the nonce, so until ReDoc has started this script stamps
 * the nonce on any <style> that scripts attach without one. Styles in the markup itself
 * still need the nonce, so injected markup cannot style the page.
 *
 * ReDoc's sidebar ends with "API docs by Redocly" and a logo that its bundle loads from
 * Redocly's CDN: nothing on this page may come from outside (and img-src would refuse it,
 * with an error in the console), so that one image is left without its address and hidden;
 * the link's text stays.
 *
 * Loaded before the ReDoc bundle; both are deferred, so they run in document order.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.nonce) {
    return;
  }
  var nonce = script.nonce;

  function stamp(node) {
    if (node instanceof HTMLStyleElement && !node.nonce) {
      node.nonce = nonce;
    }
    return node;
  }
  var OUTSIDE_LOGO = /^https?:\/\/cdn\.redoc\.ly\//;
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src" && OUTSIDE_LOGO.test(String(value))) {
      this.hidden = true;
      return undefined;
    }
    return setAttribute.call(this, name, value);
  };
  var imageSrc = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: imageSrc.enumerable,
    get: imageSrc.get,
    set: function (value) {
      if (OUTSIDE_LOGO.test(String(value))) {
        this.hidden = true;
        return;
      }
      imageSrc.set.call(this, value);
    },
  });

  var appendChild = Node.prototype.appendChild;
  var insertBefore = Node.prototype.insertBefore;
  Node.prototype.appendChild = function (node) {
    return appendChild.call(this, stamp(node));
  };
  Node.prototype.insertBefore = function (node, reference) {
    return insertBefore.call(this, stamp(node), reference);
  };

  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("redoc-container");
    if (!container || typeof window.Redoc === "undefined") {
      return;
    }
    var options = {};
    if (script.dataset.settings) {
      try {
        options = JSON.parse(script.dataset.settings);
      } catch (error) {
        options = {};
      }
    }
    options.nonce = nonce;
    window.Redoc.init(script.dataset.specUrl, options, container);
  });
})();
