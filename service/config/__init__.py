"""Configuration: the schema (strict Structs), the YAML loader, validation, and the compiled Settings."""
