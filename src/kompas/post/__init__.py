"""Posting and replying (issue #14): a draft is checked against each network's own length
rules and the user's strategy before anything is sent; sending goes through the SDKs sync
already uses, and the posted record is stored at once like a synced one."""
