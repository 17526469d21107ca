"""Health-insurance card holders (thẻ BHYT): the registry is its spec file, registry.yaml."""
