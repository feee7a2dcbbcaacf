"""The editor's page, served by the API itself: static HTML, CSS and JavaScript modules."""
