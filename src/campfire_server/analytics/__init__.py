"""Support metrics computed by aggregate SQL, with definitions, sample sizes and trends."""
