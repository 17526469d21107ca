"""Pupils' digital school records (học bạ số): the registry is its spec file, registry.yaml."""
