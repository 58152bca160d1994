"""Template filters: money written in the page's language."""
