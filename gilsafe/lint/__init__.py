"""gilsafe lint: files -> module summaries -> the project pass -> rules -> findings -> formatters."""
