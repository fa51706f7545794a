variable "project" {
  type        = string
  description = "GCP project id"
}

variable "region" {
  type        = string
  description = "Region of the Dataflow job, bucket and image repository"
  default     = "europe-west1"
}

variable "bq_location" {
  type        = string
  description = "BigQuery dataset location"
  default     = "EU"
}

variable "prefix" {
  type        = string
  description = "Name prefix of topics, subscriptions, the service account and the repository"
  default     = "newsbeam"
}

variable "dataset" {
  type    = string
  default = "news"
}

variable "table" {
  type        = string
  description = "Articles table; duplicates and dead letters get _duplicates/_dead_letters"
  default     = "articles"
}
