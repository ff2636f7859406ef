// The page the inspector feed serves over plain HTTP on its own port: it embeds the hosted Stately
// inspector and relays the feed's WebSocket messages into it with postMessage, which is the only
// way that inspector takes events. It is the bridge @statelyai/inspect's own createInspectorServer
// serves (that server is not used: it binds every interface and relays whatever any client sends);
// this one connects back to whatever host and port the browser used, so it works from another
// machine when the feed listens there. The hosted inspector needs the internet.

export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';

export function bridgePage(): string {
  return `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>lanekeeper — Stately inspector</title>
  <style>html, body { margin: 0; height: 100%; } iframe { width: 100%; height: 100%; border: 0; }</style>
</head>
<body>
  <iframe id="inspector" src="${STATELY_INSPECTOR_URL}"></iframe>
  <script>
    // Events wait here until the inspector says it is listening (@statelyai.connected).
    const frame = document.getElementById('inspector');
    const waiting = [];
    let connected = false;
    window.addEventListener('message', (e) => {
      if (e.data && e.data.type === '@statelyai.connected' && !connected) {
        connected = true;
        for (const event of waiting.splice(0)) frame.contentWindow.postMessage(event, '*');
      }
    });
    const feed = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host);
    feed.onmessage = (m) => {
      const event = JSON.parse(m.data);
      if (connected) frame.contentWindow.postMessage(event, '*');
      else waiting.push(event);
    };
  </script>
</body>
</html>
`;
}
