"""Operations: backup and restore of a whole instance (database and stored documents)."""
