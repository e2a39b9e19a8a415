"""Pure quoting logic: pricing models, surfaces, quote construction, the pre-send gate, rule
packs and obligation meters. No I/O, no clock: values in, values or decisions out."""
