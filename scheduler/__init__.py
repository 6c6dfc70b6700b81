"""oneonone: keeps a sales org's weekly manager–rep 1:1s alive on everyone's calendars."""

__version__ = "0.1.0"
