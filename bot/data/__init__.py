"""Data rights: export everything stored about a person, erase it, invite people."""
