"""The Python HSM firmware. It reaches hardware only through the HAL object it is given."""
