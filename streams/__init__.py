"""The two consumers of the table's stream: the projector (read model) and the publisher."""
