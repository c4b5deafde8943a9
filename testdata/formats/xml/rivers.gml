<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" xmlns:gml="http://www.opengis.net/gml" xmlns:hydro="https://quire.example/hydro">
  <gml:boundedBy><gml:Envelope srsName="EPSG:4326"><gml:lowerCorner>45.0 4.0</gml:lowerCorner><gml:upperCorner>46.0 5.0</gml:upperCorner></gml:Envelope></gml:boundedBy>
  <gml:featureMember>
    <hydro:River gml:id="r1">
      <gml:name>Rhône</gml:name>
      <gml:description>Rises in the Rhône Glacier and flows to the Mediterranean.</gml:description>
      <hydro:length>813</hydro:length>
      <hydro:centerLine><gml:LineString><gml:posList>46.57 8.38 45.76 4.83 43.33 4.84</gml:posList></gml:LineString></hydro:centerLine>
    </hydro:River>
  </gml:featureMember>
  <gml:featureMember>
    <hydro:River gml:id="r2">
      <gml:name>Saône</gml:name>
      <hydro:note>Joins the Rhône at Lyon.</hydro:note>
      <hydro:centerLine><gml:LineString><gml:coordinates>48.0,6.0 45.7,4.8</gml:coordinates></gml:LineString></hydro:centerLine>
    </hydro:River>
  </gml:featureMember>
</wfs:FeatureCollection>
