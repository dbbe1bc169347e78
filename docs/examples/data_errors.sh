# needs: data dlbcl as dlbcl-copy

cp -rL dlbcl-copy changed && sed -i 's/^1;0/1;1/' changed/Fold-1/TrainL.csv
debinn data fetch dlbcl --data-home datasets --base-url file:changed --quiet; echo "exit $?"
debinn data fetch dlbcl --data-home datasets --base-url file:nowhere --quiet; echo "exit $?"
