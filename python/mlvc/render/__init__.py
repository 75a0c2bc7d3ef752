"""Rendering command output: tables as DVC prints them."""
