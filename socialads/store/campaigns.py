"""Campaign definitions: one JSON document per campaign, listed under its brand.

A definition holds what the brand set (activity, settings, cause, schedule); its counters
live beside it (``socialads.store.analytics``) and outlive it. Definitions come and go as
`Campaign` records (``socialads.store.records``), kept as the JSON of `Campaign.to_json`.
Every change is announced on the global channel once written (on a cluster the channel's
node is not the definition's), so each process drops its cached copy.
"""

from __future__ import annotations

from typing import cast

import orjson

from socialads.store.base import Domain
from socialads.store.events import campaign_changed
from socialads.store.records import Campaign


class Campaigns(Domain):
    """Saving, reading and deleting campaign definitions."""

    def save_campaign(
        self, campaign: Campaign, *, new: bool = False, parts: int | None = None
    ) -> None:
        """Write a definition; a ``new`` one also records the parts its counts are kept in
        (``parts``, or the store's default: ``socialads.store.parts``), once and for good."""
        cid = campaign.id
        key = self.keys.campaign(cid)
        pipe = self.transaction(one_slot=False)  # the definition, then the brand's index
        pipe.set(key.definition, orjson.dumps(campaign.to_json()))
        if new:
            pipe.set(key.parts, parts or self.parts.default, nx=True)
            pipe.zadd(self.keys.brand_campaigns(campaign.brand_id), {cid: campaign.created_at})
        pipe.execute()
        self.publish_on(self.redis, self.keys.events, campaign_changed(cid))

    def get_campaign(self, cid: str) -> Campaign | None:
        raw = self.redis.get(self.keys.campaign(cid).definition)
        return Campaign.from_json(orjson.loads(raw)) if raw else None

    def brand_campaigns(self, brand_id: str) -> list[Campaign]:
        ids = cast("list[str]", self.redis.zrange(self.keys.brand_campaigns(brand_id), 0, -1))
        if not ids:
            return []
        raws = self.redis.mget([self.keys.campaign(cid).definition for cid in ids])
        return [Campaign.from_json(orjson.loads(raw)) for raw in raws if raw]

    def delete_campaign(self, campaign: Campaign) -> None:
        """Remove the definition; counters stay as the campaign's record."""
        cid = campaign.id
        pipe = self.transaction(one_slot=False)  # brand_campaigns skips a missing one
        pipe.delete(self.keys.campaign(cid).definition)
        pipe.zrem(self.keys.brand_campaigns(campaign.brand_id), cid)
        pipe.execute()
        self.publish_on(self.redis, self.keys.events, campaign_changed(cid))
