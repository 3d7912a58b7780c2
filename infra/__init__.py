"""Platform plumbing every entry point shares: settings, logging, the Temporal client and its
one data converter. It knows no rule and no workflow: workers/ hands it the keys it needs."""
