"""HTML pages: partners at their signed links (``web/partner.py``)."""
