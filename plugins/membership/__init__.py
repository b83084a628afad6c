"""The platform membership plugin: yearly paid membership, member prices, partner codes."""
