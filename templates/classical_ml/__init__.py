"""Classical ML train and deploy: XGBoost pipeline, registry, endpoint of an approved package."""
