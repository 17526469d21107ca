"""Guests declared through the ASM accommodation software: the registry is its spec file, registry.yaml."""
