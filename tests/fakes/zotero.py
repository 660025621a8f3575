"""A loopback Zotero Web API (v3) for pyzotero: a group's items, listed in pages and created in batches.

It checks what the real API checks for these calls: the API key (`Authorization: Bearer`), at most 50
items per write, a `Zotero-Write-Token` used once (a retried write with the same token is answered
with the first answer and changes nothing), and known item fields.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.common import Served, serve

FIELDS = {
    "itemType", "title", "creators", "abstractNote", "repository", "archiveID", "date", "DOI", "url",
    "tags", "collections", "relations", "extra", "accessDate",
}  # fmt: skip


class FakeZotero:
    def __init__(self, *, group: str = "12345", api_key: str = "zotero-key-SECRET", page: int = 25) -> None:
        self.group = group
        self.api_key = api_key
        self.page = page
        self.items: list[dict[str, Any]] = []
        self.writes: list[int] = []
        """How many items each accepted write carried."""
        self._tokens: dict[str, dict[str, Any]] = {}
        self._version = 1
        self._app = web.Application()
        self._app.router.add_get("/groups/{group}/items", self._list)
        self._app.router.add_post("/groups/{group}/items", self._create)
        self._served: Served | None = None

    async def start(self) -> FakeZotero:
        self._served = await serve(self._app)
        return self

    async def stop(self) -> None:
        if self._served is not None:
            await self._served.runner.cleanup()

    @property
    def endpoint(self) -> str:
        assert self._served is not None
        return f"http://127.0.0.1:{self._served.port}"

    def _refused(self, request: web.Request) -> web.Response | None:
        if request.match_info["group"] != self.group:
            return web.Response(status=404, text="Not found")
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.Response(status=403, text="Forbidden")
        return None

    async def _list(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        tag = request.query.get("tag")
        found = [i for i in self.items if tag is None or {"tag": tag} in i["data"]["tags"]]
        start = int(request.query.get("start", "0"))
        limit = min(int(request.query.get("limit", str(self.page))), self.page)
        page = found[start : start + limit]
        headers = {"Total-Results": str(len(found)), "Last-Modified-Version": str(self._version)}
        if start + limit < len(found):
            query = f"start={start + limit}&limit={limit}" + (f"&tag={tag}" if tag else "")
            headers["Link"] = f'<{self.endpoint}/groups/{self.group}/items?{query}>; rel="next"'
        return web.json_response(page, headers=headers)

    async def _create(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        token = request.headers.get("Zotero-Write-Token", "")
        if token in self._tokens:
            return web.json_response(self._tokens[token])
        payload = await request.json()
        if not isinstance(payload, list) or len(payload) > 50:
            return web.Response(status=413, text="Too many items")
        answer: dict[str, Any] = {"successful": {}, "success": {}, "unchanged": {}, "failed": {}}
        for position, data in enumerate(payload):
            unknown = set(data) - FIELDS
            if unknown:
                answer["failed"][str(position)] = {"code": 400, "message": f"Invalid fields {sorted(unknown)}"}
                continue
            self._version += 1
            key = f"K{len(self.items) + 1:07d}"
            item = {"key": key, "version": self._version, "data": {**data, "key": key, "version": self._version}}
            self.items.append(item)
            answer["successful"][str(position)] = item
            answer["success"][str(position)] = key
        self.writes.append(len(answer["success"]))
        if token:
            self._tokens[token] = answer
        return web.json_response(answer, headers={"Last-Modified-Version": str(self._version)})
