"""Link checking: collect every link of the database and README, check them politely and
concurrently, say what a person should do about each, and suggest replacements.

extract -> check (client, gate, policy) -> suggest -> report; cache keeps fresh results.
"""
