"""Data directory: the XSD of the học bạ số XML (a package so that setuptools ships ``*.xsd``)."""
