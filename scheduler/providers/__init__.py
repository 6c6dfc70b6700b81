"""Calendar providers: thin adapters between a calendar's world and the domain's."""
