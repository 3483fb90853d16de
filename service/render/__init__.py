"""Render: templates, filters, escaping, message formats, built-in messages and digest/report layouts."""
