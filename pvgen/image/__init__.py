"""Partition images: guest ELFs made loadable by POK, packed into one image file."""
