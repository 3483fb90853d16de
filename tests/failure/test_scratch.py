import json, asyncio
import pytest
from conftest import post_signed, fixture_body
from test_delivery import db, wait_for

async def test_scratch(tmp_path, settings_for, start):
    client = await start(settings_for(), worker=True)
    bodies = {
      "deep1000": b'{"event":"x","id":"d1","data":' + b'['*1000 + b']'*1000 + b'}',
      "deep10000": b'{"event":"x","id":"d2","data":' + b'['*10000 + b']'*10000 + b'}',
      "deep990": b'{"event":"x","id":"d3","data":' + b'['*990 + b']'*990 + b'}',
      "deep990obj": b'{"event":"x","id":"d4","data":' + b'{"a":'*990 + b'1' + b'}'*990 + b'}',
      "bigint": b'{"event":"myeduzz.invoice_paid","id":"b1","data":{"price":{"value":' + b'9'*500 + b'}}}',
      "bigfloat": b'{"event":"x","id":"f1","data":1e400}',
      "nul": b'{"event":"x\\u0000y","id":"n\\u0000","data":{}}',
      "idbig": b'{"event":"x","id":' + b'9'*500 + b',"data":{}}',
      "idfloat": b'{"event":"x","id":1.5,"data":{}}',
    }
    for k, b in bodies.items():
        r = await post_signed(client, b)
        print(k, r.status, (await r.text())[:200])
    await asyncio.sleep(1.5)
    print(db(tmp_path, "SELECT d.status, d.last_error, e.external_id FROM deliveries d JOIN events e ON e.id=d.event_id"))
