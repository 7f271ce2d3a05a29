"""Live sync with Mastodon and Bluesky, and public account lookup (issue 3)."""
