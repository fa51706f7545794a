# newsbeam on GCP: Pub/Sub in and out, the BigQuery dataset and tables, and a worker
# service account with least-privilege roles on exactly these resources.
# `terraform apply -var project=... -var region=...`; see docs/DEPLOY.md.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}

locals {
  schemas = "${path.module}/../../schemas"
  tables = {
    (var.table)                 = { schema = "article.json", partition = "published_at", cluster = ["source", "language"] }
    "${var.table}_duplicates"   = { schema = "duplicate.json", partition = "detected_at", cluster = ["source", "kind"] }
    "${var.table}_dead_letters" = { schema = "dead_letter.json", partition = "at", cluster = ["stage", "reason"] }
  }
}

resource "google_project_service" "apis" {
  for_each           = toset(["dataflow.googleapis.com", "pubsub.googleapis.com", "bigquery.googleapis.com", "artifactregistry.googleapis.com", "cloudbuild.googleapis.com"])
  service            = each.value
  disable_on_destroy = false
}

# --- Pub/Sub -------------------------------------------------------------------------

resource "google_pubsub_topic" "urls" {
  name = "${var.prefix}-urls"
}

resource "google_pubsub_topic" "urls_dead_letter" {
  name = "${var.prefix}-urls-dead-letter"
}

# Messages that could not be delivered land here and wait to be inspected.
resource "google_pubsub_subscription" "urls_dead_letter" {
  name                       = "${var.prefix}-urls-dead-letter"
  topic                      = google_pubsub_topic.urls_dead_letter.id
  message_retention_duration = "604800s"
  expiration_policy { ttl = "" }
}

resource "google_pubsub_subscription" "urls" {
  name                       = "${var.prefix}-urls"
  topic                      = google_pubsub_topic.urls.id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s" # a week of outage before a submission is lost
  expiration_policy { ttl = "" }
  # Dataflow acknowledges only what it has committed and ignores this policy; it
  # applies to any other subscriber of this subscription.
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.urls_dead_letter.id
    max_delivery_attempts = 10
  }
}

resource "google_pubsub_topic" "articles" {
  name = "${var.prefix}-articles"
}

# --- BigQuery ------------------------------------------------------------------------

resource "google_bigquery_dataset" "news" {
  dataset_id = var.dataset
  location   = var.bq_location
}

resource "google_bigquery_table" "tables" {
  for_each            = local.tables
  dataset_id          = google_bigquery_dataset.news.dataset_id
  table_id            = each.key
  schema              = jsonencode(jsondecode(file("${local.schemas}/${each.value.schema}")).fields)
  clustering          = each.value.cluster
  deletion_protection = true
  time_partitioning {
    type  = "DAY"
    field = each.value.partition
  }
}

# --- Worker identity and least privilege ---------------------------------------------

resource "google_service_account" "worker" {
  account_id   = "${var.prefix}-worker"
  display_name = "newsbeam Dataflow worker"
}

resource "google_project_iam_member" "worker" {
  project = var.project
  role    = "roles/dataflow.worker"
  member  = google_service_account.worker.member
}

resource "google_storage_bucket" "dataflow" {
  name                        = "${var.project}-${var.prefix}-dataflow"
  location                    = var.region
  uniform_bucket_level_access = true
  lifecycle_rule {
    condition { age = 30 }
    action { type = "Delete" }
  }
}

resource "google_storage_bucket_iam_member" "worker" {
  bucket = google_storage_bucket.dataflow.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.worker.member
}

resource "google_pubsub_subscription_iam_member" "worker_reads_urls" {
  for_each     = toset(["roles/pubsub.subscriber", "roles/pubsub.viewer"])
  subscription = google_pubsub_subscription.urls.name
  role         = each.value
  member       = google_service_account.worker.member
}

resource "google_pubsub_topic_iam_member" "worker_publishes_articles" {
  topic  = google_pubsub_topic.articles.name
  role   = "roles/pubsub.publisher"
  member = google_service_account.worker.member
}

# Streaming inserts, and the launcher's check that tables and views exist.
resource "google_bigquery_dataset_iam_member" "worker_writes" {
  dataset_id = google_bigquery_dataset.news.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_service_account.worker.member
}

# Pub/Sub's service agent moves undeliverable messages to the dead-letter topic.
data "google_project" "this" {}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.urls_dead_letter.name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  subscription = google_pubsub_subscription.urls.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_artifact_registry_repository" "images" {
  repository_id = var.prefix
  location      = var.region
  format        = "DOCKER"
}

resource "google_artifact_registry_repository_iam_member" "worker_pulls" {
  repository = google_artifact_registry_repository.images.name
  location   = var.region
  role       = "roles/artifactregistry.reader"
  member     = google_service_account.worker.member
}
