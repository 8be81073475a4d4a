"""FM hosting: a catalog model on a private, autoscaled SageMaker endpoint."""
