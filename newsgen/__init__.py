"""newsgen: turn scraped news articles into a fast, searchable, multilingual static archive."""

__version__ = "0.1.0"
