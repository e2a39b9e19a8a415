"""The shared vocabulary of mmgw: instruments, events, commands, the clock and the ports.

Imports the standard library and msgspec only (an import-linter contract holds it to that).
"""
