"""The FIX link on QuickFIX: session settings, the gateway's initiator, the simulator's
acceptor and its acceptance-test mode."""
