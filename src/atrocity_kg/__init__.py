"""atrocity-kg: the open knowledge graph of atrocity-prevention evidence."""

__version__ = "0.1.0"
