"""What the query-shape tests assert about the SQL a page ran."""


def assert_no_join_offset_or_count(queries) -> None:
    """No query joins domains, pages by OFFSET or counts rows."""
    for query in queries:
        sql = query["sql"].upper()
        assert " JOIN " not in sql, sql
        assert " OFFSET " not in sql, sql
        assert "COUNT(" not in sql, sql
