"""The imperative shell: process wiring, the OMS, the audit journal, the control API and the
console, authentication and roles, failover; and the `mmgw` command line."""
