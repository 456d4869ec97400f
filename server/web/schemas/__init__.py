"""Request and response schemas (``XRequest``/``XResponse``): they are the /docs manual."""
