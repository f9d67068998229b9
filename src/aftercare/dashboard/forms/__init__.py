"""Dashboard forms, one module per page area. They validate for a friendly message next to the
field; the services they feed check the same rules again for every other caller."""
