"""supportbot: recognises pasted AI-coding-tool errors and tracks usage-quota incidents."""

__version__ = "0.1.0"
