"""One module per Walmart API. Resources build requests and parse answers; they never see tokens,
retries or `requests` (that is the requestor's and transport's job)."""
