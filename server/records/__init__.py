"""Records: intake of revisions (writes), queries (reads) and reviews."""
