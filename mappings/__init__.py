"""Pure mapping layer: EPD events (FHIR-shaped JSON) to VSB XML, VSB answers to FHIR JSON."""
