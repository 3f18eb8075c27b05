"""The portal's database backends (``DATABASES[...]["ENGINE"]``)."""
