"""IMDB sentiment with a stacked LSTM, trained with gradient-norm clipping (clipnorm=1.0): an
unusually large gradient is rescaled instead of wrecking the weights."""
from tensorflow import keras
from tensorflow.keras import layers

VOCAB = 20000
MAXLEN = 200

(x_train, y_train), (x_val, y_val) = keras.datasets.imdb.load_data(num_words=VOCAB)
x_train = keras.utils.pad_sequences(x_train, maxlen=MAXLEN)
x_val = keras.utils.pad_sequences(x_val, maxlen=MAXLEN)

model = keras.Sequential([
    layers.Embedding(VOCAB, 128),
    layers.LSTM(64, return_sequences=True),
    layers.LSTM(64),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0),
    loss="binary_crossentropy",
    metrics=["accuracy"],
)
model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))
