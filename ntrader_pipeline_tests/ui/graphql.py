"""Raw GraphQL against a running Dagster webserver: the queries the UI end-to-end test needs."""

import time
from dataclasses import dataclass

import requests

ASSET_NODES = """
query AssetNodes {
  assetNodes {
    assetKey { path }
    groupName
    partitionDefinition { type }
  }
}
"""

LAUNCH_BACKFILL = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
"""

BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
    ... on Error { message }
  }
}
"""

BACKFILL_RUNS = """
query BackfillRuns($tags: [ExecutionTag!]) {
  runsOrError(filter: {tags: $tags}) {
    __typename
    ... on Runs { results { runId status } }
    ... on Error { message }
  }
}
"""

URL_METADATA = """
query UrlMetadata($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) {
    ... on AssetNode {
      assetMaterializations(limit: 100) {
        partition
        metadataEntries { label ... on UrlMetadataEntry { url } }
      }
    }
  }
}
"""

# Bulk-action statuses after which the backfill launches nothing more.
BACKFILL_DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


@dataclass(frozen=True)
class AssetNode:
    path: list[str]
    group: str | None
    partitions_type: str | None  # MULTIPARTITIONED, STATIC, TIME_WINDOW, DYNAMIC or None (unpartitioned)


class DagsterGraphQL:
    def __init__(self, base_url: str) -> None:
        self.url = f"{base_url}/graphql"

    def execute(self, query: str, variables: dict | None = None) -> dict:
        response = requests.post(self.url, json={"query": query, "variables": variables or {}}, timeout=60)
        response.raise_for_status()
        body = response.json()
        assert not body.get("errors"), f"GraphQL errors: {body['errors']}"
        return body["data"]

    def asset_nodes(self) -> list[AssetNode]:
        nodes = self.execute(ASSET_NODES)["assetNodes"]
        return [
            AssetNode(
                path=node["assetKey"]["path"],
                group=node["groupName"],
                partitions_type=(node["partitionDefinition"] or {}).get("type"),
            )
            for node in nodes
        ]

    def launch_backfill(
        self, partitions_by_assets: list[dict], title: str, run_config: dict | None = None
    ) -> str:
        params = {"partitionsByAssets": partitions_by_assets, "title": title}
        if run_config is not None:
            params["runConfigData"] = run_config
        result = self.execute(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        assert result["__typename"] == "LaunchBackfillSuccess", f"backfill not launched: {result}"
        return result["backfillId"]

    def backfill_status(self, backfill_id: str) -> str:
        result = self.execute(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        assert result["__typename"] == "PartitionBackfill", f"backfill {backfill_id}: {result}"
        return result["status"]

    def wait_for_backfill(self, backfill_id: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        status = "unknown"
        while time.monotonic() < deadline:
            result = self.execute(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
            assert result["__typename"] == "PartitionBackfill", f"backfill {backfill_id}: {result}"
            status = result["status"]
            if status in BACKFILL_DONE:
                return status
            time.sleep(2)
        raise AssertionError(f"backfill {backfill_id} still {status} after {timeout_s:.0f} s")

    def backfill_runs(self, backfill_id: str) -> list[dict]:
        tags = [{"key": "dagster/backfill", "value": backfill_id}]
        result = self.execute(BACKFILL_RUNS, {"tags": tags})["runsOrError"]
        assert result["__typename"] == "Runs", result
        return result["results"]

    def url_metadata(self, path: list[str]) -> dict[str, list[str]]:
        """{partition: [URL metadata values]} over the asset's latest materializations."""
        node = self.execute(URL_METADATA, {"path": path})["assetNodeOrError"]
        urls: dict[str, list[str]] = {}
        for event in node.get("assetMaterializations") or []:
            found = [entry["url"] for entry in event["metadataEntries"] if "url" in entry]
            urls.setdefault(event["partition"], []).extend(found)
        return urls
