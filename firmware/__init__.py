"""Code that runs inside the SoC: the HSM server firmware, the client library, app-core sources."""
