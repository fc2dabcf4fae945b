"""Digest chain validation: prove CloudTrail log files were not altered (see docs/integrity.md).

Public surface (import from the modules; this package stays light so the sample writer can import
the signer without loading the validator):

    integrity.validator   validate(store, keys, scope=..., workers=...) -> ValidationSummary, Scope
    integrity.stores      FolderStore, S3Store, LakeStore
    integrity.records     validate_lake, validate_after_ingest, record_validations, VALIDATIONS
    integrity.signer      write_digests(root, bucket=...) for generated buckets (TEST key)
    integrity.public_keys load_public_keys, KeyRing, verify_signature
    integrity.outcomes    Finding, ValidationSummary
"""
