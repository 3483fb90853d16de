"""Built-in pt-BR messages: one spec per event (specs, sale_specs) and one builder module per message format."""
