"""Image uploads: validation of what a file really is, private storage, and the views
that hand images to their owner, to staff and upstream.
"""
